"""Pure rules of the notices service (通知): who hears of an event, when it may go out, 填报 deadlines."""
