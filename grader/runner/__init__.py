"""The runner: the untrusted side, where student code runs.

`child.py` is started as a separate, limited process (`python -I child.py`)
and imports nothing from the judge; `client.py` is the judge's handle on it;
`protocol.py` is the plain-data wire format both sides share.
"""
