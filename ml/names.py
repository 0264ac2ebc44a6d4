"""Names other code relies on, in a module that imports nothing heavy."""

SURVEILLANCE_MODEL = "gcx_surveillance"
MEMBER_RISK_MODEL = "gcx_member_risk"
CHAMPION = "champion"
CHALLENGER = "challenger"
