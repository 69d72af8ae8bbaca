"""crmassist: a conversational brain for a CRM."""
