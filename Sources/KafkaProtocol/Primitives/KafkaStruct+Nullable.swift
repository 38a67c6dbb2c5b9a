public import NIOCore

extension ByteBuffer {
    /// A struct field that may be null: an int8 marker (-1 null, 1 present) precedes
    /// the value in versions where it is nullable; otherwise the value is always there.
    public mutating func readKafkaNullableStruct<T: KafkaStruct>(
        _ type: T.Type, version: Int16, nullable: Bool = true
    ) throws(KafkaDecodingError) -> T? {
        if nullable, try !readKafkaStructPresence() { return nil }
        return try T(from: &self, version: version)
    }
}

extension KafkaWriter {
    /// Writes a nullable struct field; in a version where it is not nullable a nil
    /// is written as the struct's default value.
    public mutating func writeKafkaNullableStruct<T: KafkaStruct>(_ value: T?, version: Int16, nullable: Bool = true) {
        if nullable {
            guard let value else { return writeInteger(Int8(-1)) }
            writeInteger(Int8(1))
            value.write(to: &self, version: version)
        } else {
            (value ?? T()).write(to: &self, version: version)
        }
    }
}
