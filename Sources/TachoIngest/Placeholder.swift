// TachoIngest
