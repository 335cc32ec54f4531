"""The demo's "Show invite email": the rendered invite as the patient would get it."""

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.demo.invite_mail import InviteEmail


class InviteEmailDialog(QDialog):
    def __init__(self, email: InviteEmail, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Invite email — {email.subject}")
        self.resize(720, 760)
        header = QFormLayout()
        header.addRow("To:", QLabel(email.to, self))
        header.addRow("Subject:", QLabel(email.subject, self))
        header.addRow("File:", QLabel(str(email.path), self))
        self.body = QTextBrowser(self)
        # The join button's link opens in the browser, as it would from the patient's mail.
        self.body.setOpenExternalLinks(True)
        self.body.setHtml(email.html or email.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.body, 1)
        layout.addWidget(buttons)
