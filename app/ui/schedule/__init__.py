"""The Clinic Schedule: the main window, its table, filters, dates and appointment dialogs."""
