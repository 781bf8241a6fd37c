// TachoFormat
