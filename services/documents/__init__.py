"""Documents service (公文): bulletins, warning and reminder slips and letters, rendered, numbered, stored."""
