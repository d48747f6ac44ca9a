"""scikit-learn estimator checks shared by the test packages (text CNNs and string-input baselines)."""
import pytest

# scikit-learn checks that need no data (the data-based ones skip string-input estimators)
DATA_FREE_CHECKS = ["check_no_attributes_set_in_init", "check_parameters_default_constructible",
                    "check_get_params_invariance", "check_set_params", "check_estimator_repr",
                    "check_estimator_cloneable", "check_estimators_unfitted", "check_valid_tag_types",
                    "check_estimator_tags_renamed"]


def run_data_free_check(name, est):
    from sklearn.utils import estimator_checks

    check = getattr(estimator_checks, name, None)
    if check is None:
        pytest.skip(f"{name} is not in this scikit-learn version")
    try:
        check(type(est).__name__, est)
    except TypeError as exc:  # some take only the estimator
        if "positional argument" not in str(exc):
            raise
        check(est)
