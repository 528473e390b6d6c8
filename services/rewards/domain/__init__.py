"""Pure rules of 结果运用 (using published results): money, rule sets, application, ledger, what-if.

Nothing here touches a database, NATS or HTTP; the service wiring calls these functions with plain data.
"""
