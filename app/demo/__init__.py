"""`clinic-desk --demo`: the embedded server, the simulated patients, and the desktop's side."""
