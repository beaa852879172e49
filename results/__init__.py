"""Installed as harness.published, with published.json only (pyproject.toml maps this folder):
`harness report --published` reads it through the package, from a checkout and from a wheel alike.
The gates and baselines here are for runs from the repository and are not installed."""
