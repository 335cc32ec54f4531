"""FHIR R4 API under /fhir/r4: Appointment, Patient and Practitioner for hospital systems."""
