// WireServer
