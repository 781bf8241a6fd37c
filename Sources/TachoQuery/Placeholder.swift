// TachoQuery
