// TachoStore
