"""Golden tests of seqcnn.compare.stats (Demšar 2006; Holm 1979; Nadeau & Bengio 2003; McNemar)."""
import math

import numpy as np
import pytest
from scipy import stats as st

from seqcnn.compare import stats as S


def test_nemenyi_cd_for_4_models_over_30_datasets_is_0_856():
    q, cd = S.nemenyi_critical_difference(4, 30, alpha=0.05)
    assert q == pytest.approx(2.569, abs=5e-4)
    assert cd == pytest.approx(0.856, abs=5e-4)


@pytest.mark.parametrize("alpha", [0.05, 0.10])
def test_nemenyi_q_from_studentized_range_matches_demsar_table(alpha):
    for k, q_table in S.NEMENYI_Q_TABLE[alpha].items():
        assert S.nemenyi_q(k, alpha) == pytest.approx(q_table, abs=1e-3), k


def test_friedman_statistic_equals_scipy_with_and_without_ties():
    rng = np.random.default_rng(0)
    for table in (rng.random((12, 5)), np.round(rng.random((15, 4)), 1)):  # the second one has ties
        ours = S.friedman_test(table)
        ref = st.friedmanchisquare(*table.T)
        assert ours["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
        assert ours["pvalue"] == pytest.approx(ref.pvalue, rel=1e-9)
        n, k = table.shape
        chi2 = ours["statistic"]
        F = (n - 1) * chi2 / (n * (k - 1) - chi2)
        assert ours["iman_davenport"] == pytest.approx(F)
        assert ours["iman_davenport_pvalue"] == pytest.approx(st.f.sf(F, k - 1, (k - 1) * (n - 1)))


def test_friedman_needs_two_datasets():
    with pytest.raises(ValueError, match=">= 2 data sets"):
        S.friedman_test([[0.9, 0.8, 0.7]])


def test_average_ranks_average_ties_and_rank_1_is_the_highest_score():
    scores = [[0.9, 0.8, 0.8, 0.7],
              [0.5, 0.6, 0.6, 0.6]]
    np.testing.assert_allclose(S.rank_matrix(scores), [[1, 2.5, 2.5, 4], [4, 2, 2, 2]])
    np.testing.assert_allclose(S.average_ranks(scores), [2.5, 2.25, 2.25, 3.0])
    np.testing.assert_allclose(S.average_ranks(scores, higher_is_better=False), [2.5, 2.75, 2.75, 2.0])


def test_holm_on_a_known_p_value_list():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → monotone 0.06
    np.testing.assert_allclose(S.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(S.holm([0.5, 0.9]), [1.0, 1.0])
    with pytest.raises(ValueError, match="pvalues"):
        S.holm([0.1, 1.5])


def test_corrected_resampled_ttest_on_a_hand_computed_example():
    a = [0.80, 0.82, 0.78, 0.81, 0.79]
    b = [0.78, 0.80, 0.77, 0.78, 0.78]
    # d = [.02 .02 .01 .03 .01]: mean 0.018, s² = 7e-5; correction 1/5 + 10/90
    t, p = S.corrected_resampled_ttest(a, b, n_train=90, n_test=10)
    assert t == pytest.approx(0.018 / math.sqrt((0.2 + 1 / 9) * 7e-5), rel=1e-9)
    assert t == pytest.approx(3.857142857, rel=1e-6)
    assert p == pytest.approx(2 * st.t.sf(3.857142857, 4), rel=1e-6)
    naive = st.ttest_rel(a, b).statistic  # the uncorrected test overstates significance
    assert abs(naive) > abs(t)
    assert S.corrected_resampled_ttest(a, a, 90, 10) == (0.0, 1.0)


def test_mcnemar_exact_binomial():
    ca = np.array([True] * 9 + [False] * 1 + [True] * 5)
    cb = np.array([False] * 9 + [True] * 1 + [True] * 5)
    b, c, p = S.mcnemar_exact(ca, cb)
    assert (b, c) == (9, 1)
    assert p == pytest.approx(22 / 1024)
    assert S.mcnemar_exact(ca, ca)[2] == 1.0


def test_wilcoxon_holm_matches_scipy_and_corrects():
    rng = np.random.default_rng(1)
    table = rng.random((10, 3))
    table[:, 0] += 0.3
    res = S.wilcoxon_holm(table, ["a", "b", "c"])
    assert [(r["a"], r["b"]) for r in res] == [("a", "b"), ("a", "c"), ("b", "c")]
    ref = st.wilcoxon(table[:, 0], table[:, 1], zero_method="zsplit").pvalue
    assert res[0]["pvalue"] == pytest.approx(ref)
    np.testing.assert_allclose([r["pvalue_holm"] for r in res], S.holm([r["pvalue"] for r in res]))
    assert res[0]["better"] == "a"


def test_cliques_join_models_closer_than_cd():
    assert S.cliques([1.0, 1.5, 3.0, 3.2], cd=0.856) == [[0, 1], [2, 3]]
    assert S.cliques([1.0, 2.0, 3.0], cd=5) == [[0, 1, 2]]


def test_winners_share_ties_and_summaries_use_sample_std():
    rows = [{"dataset": "d", "model": m, "fold": f, "accuracy": v}
            for m, vals in (("x", [0.8, 0.9]), ("y", [0.85, 0.85])) for f, v in enumerate(vals)]
    summ = S.summarize(rows)
    assert summ[("d", "x")]["std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert S.winners(S.score_matrix(rows, ["d"], ["x", "y"]), ["x", "y"]) == [["x", "y"]]
