"""Hospital systems talking to Clinic Desk: HL7 v2 over MLLP (one module per job)."""
