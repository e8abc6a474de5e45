package graph

// The Edm primitive types. Every Model shares these values, so a property's
// type can be compared with them directly (p.Type == graph.EdmInt32).
var (
	EdmBinary         = edm("Binary")
	EdmBoolean        = edm("Boolean")
	EdmByte           = edm("Byte")
	EdmDate           = edm("Date")
	EdmDateTimeOffset = edm("DateTimeOffset")
	EdmDecimal        = edm("Decimal")
	EdmDouble         = edm("Double")
	EdmDuration       = edm("Duration")
	EdmGuid           = edm("Guid")
	EdmInt16          = edm("Int16")
	EdmInt32          = edm("Int32")
	EdmInt64          = edm("Int64")
	EdmSByte          = edm("SByte")
	EdmSingle         = edm("Single")
	EdmStream         = edm("Stream")
	EdmString         = edm("String")
	EdmTimeOfDay      = edm("TimeOfDay")
	EdmUntyped        = edm("Untyped")
)

// edmTypes holds every Edm primitive by qualified name; the spatial types
// are there too, without package variables of their own.
var edmTypes = func() map[string]*DataType {
	m := make(map[string]*DataType)
	for _, t := range []*DataType{
		EdmBinary, EdmBoolean, EdmByte, EdmDate, EdmDateTimeOffset, EdmDecimal,
		EdmDouble, EdmDuration, EdmGuid, EdmInt16, EdmInt32, EdmInt64, EdmSByte,
		EdmSingle, EdmStream, EdmString, EdmTimeOfDay, EdmUntyped,
	} {
		m[t.Name] = t
	}
	for _, family := range []string{"Geography", "Geometry"} {
		for _, shape := range []string{"", "Point", "LineString", "Polygon",
			"MultiPoint", "MultiLineString", "MultiPolygon", "Collection"} {
			t := edm(family + shape)
			m[t.Name] = t
		}
	}
	return m
}()

func edm(name string) *DataType {
	return &DataType{Name: "Edm." + name, Kind: KindPrimitive}
}
