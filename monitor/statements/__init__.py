"""What users read: month statements and the provider's credit liability, rendered from the ledger."""
