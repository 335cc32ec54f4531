"""`clinic-desk --self-test`: checks a dev install or a bundle end to end and prints one line."""
