"""The waiting room seen from the desk: arrival notices and messages to waiting patients."""
