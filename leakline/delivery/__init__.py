"""Outgoing mail: compose each mail once (wire), queue it, deliver it (mailer, sender,
transport)."""
