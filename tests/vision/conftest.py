"""Shared fixtures of the vision tests.

The test machine is 2 cores shared with other jobs: torch's default 2 intra-op threads then
spin against each other (a tiny training step measured 70× slower than with one thread), so
every vision test module runs with one thread and restores the previous setting afterwards.
"""
import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
