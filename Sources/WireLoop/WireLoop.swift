// WireLoop
