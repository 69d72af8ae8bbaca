"""The CRM's records and vocabularies; depends on nothing else in crmassist."""
