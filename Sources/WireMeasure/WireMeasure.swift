// WireMeasure
