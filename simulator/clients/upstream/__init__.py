"""Drivers that play the systems upstream of the operator's platform: a game provider sending its callbacks
(`phoenix.py`, seed 004) and the platform's event bus publishing financial events (`evenbet.py`, seed 002).

Each tells the ftsim that receives the platform's FT events what it sent (`link.py`, over
`POST /api/pipeline/inputs`), so ftsim can pair every input with the FT events it must cause.
"""
