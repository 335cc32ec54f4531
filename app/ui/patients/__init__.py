"""The Patients view: find a patient, their file, corrections, booking for them."""
