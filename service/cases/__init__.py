"""The life of a case after it is reported: photos now; the closed loop grows here.
Framework-free."""
