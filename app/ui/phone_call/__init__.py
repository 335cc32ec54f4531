"""The phone call window: a call to the patient's telephone, dialled by the server."""
