// TachoJSON
