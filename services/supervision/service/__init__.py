"""Use cases of the supervision service: functions of a session, the context and a caller; never commit."""
