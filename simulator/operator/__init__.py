"""ftsim as the CRM's client of the operator: it calls the endpoints an operator must provide (GetUserDetails,
GetConsents, GetBlocks, authenticate, bonus) the way Fast Track does, and judges each answer.

A client layer (beside clients/): it talks to the operator over the wire and knows the store and the intake
only through the objects it is handed (`Trigger(store=...)`, a subscriber of intake's committed verdicts).
"""
