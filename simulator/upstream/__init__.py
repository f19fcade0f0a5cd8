"""Upstream of the platform: what the operator's platform was given (a game provider's callbacks, its
event bus's financial events) paired with the Fast Track events it must have caused.

`mapping.py` reads the TOML that says which FT events each input must cause; `pairing.py` holds the
pending inputs and FT events and judges each pair. The drivers that play the provider and the bus are
clients (`simulator/clients/upstream/`): they reach this over the wire, through `/api/pipeline`.
"""
