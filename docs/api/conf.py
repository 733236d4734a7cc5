"""Sphinx configuration of the API reference (built from the numpydoc docstrings)."""

project = "spikeinfer"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_default_options = {
    "members": True, "undoc-members": False, "show-inheritance": True,
    # scikit-learn generates metadata-routing methods on every estimator
    "exclude-members": "set_fit_request, set_predict_request, set_predict_proba_request",
}
autodoc_typehints = "none"
autodoc_member_order = "bysource"
html_theme = "alabaster"
exclude_patterns = ["_build"]
suppress_warnings = ["ref.python"]
nitpicky = False
