"""Use cases of the notices service: functions of a session (or its connection) and a caller; never commit."""
