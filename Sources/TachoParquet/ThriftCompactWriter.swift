/// The Thrift compact protocol (the encoding of every Parquet footer and page header), write
/// side only: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md.
///
/// A struct is its fields in ascending id order, each a header byte then the value, ended by a
/// 0 byte. The header packs the id *delta* from the previous field of the same struct (1…15)
/// with the type nibble; a larger jump writes the type alone and the id as a zigzag varint.
/// Booleans are the type nibble (1 true, 2 false) with no value. Integers are zigzag
/// varints; binary and strings are a varint length and the bytes; a list is a header byte
/// (size < 15: size << 4 | element type, else 0xF0 | type and a varint size) and the elements.
public struct ThriftCompactWriter: Sendable {
    public enum FieldType: UInt8, Sendable {
        case boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
        case binary = 8, list = 9, set = 10, map = 11, `struct` = 12
    }

    public private(set) var bytes: [UInt8] = []
    /// The last field id written in each open struct (innermost last).
    private var lastField: [Int16] = [0]

    public init() {}

    // MARK: structs and fields

    /// Opens a nested struct value (after its field header, or as a list element).
    public mutating func beginStruct() { lastField.append(0) }

    /// Closes the innermost struct: the stop byte.
    public mutating func endStruct() {
        bytes.append(0)
        lastField.removeLast()
    }

    public mutating func fieldHeader(_ id: Int16, _ type: FieldType) {
        let last = lastField[lastField.count - 1]
        let delta = Int(id) - Int(last)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeVarint(zigzag(Int64(id)))
        }
        lastField[lastField.count - 1] = id
    }

    public mutating func field(_ id: Int16, i32 v: Int32) {
        fieldHeader(id, .i32)
        writeVarint(zigzag(Int64(v)))
    }

    public mutating func field(_ id: Int16, i64 v: Int64) {
        fieldHeader(id, .i64)
        writeVarint(zigzag(v))
    }

    public mutating func field(_ id: Int16, i16 v: Int16) {
        fieldHeader(id, .i16)
        writeVarint(zigzag(Int64(v)))
    }

    public mutating func field(_ id: Int16, bool v: Bool) { fieldHeader(id, v ? .boolTrue : .boolFalse) }

    public mutating func field(_ id: Int16, binary v: some Collection<UInt8>) {
        fieldHeader(id, .binary)
        writeBinary(v)
    }

    public mutating func field(_ id: Int16, string v: String) { field(id, binary: v.utf8) }

    /// A field holding a struct: `body` writes the struct's fields.
    public mutating func field(_ id: Int16, struct body: (inout ThriftCompactWriter) -> Void) {
        fieldHeader(id, .struct)
        beginStruct()
        body(&self)
        endStruct()
    }

    /// A field holding a list of `count` elements of `type`; `body` writes the elements.
    public mutating func field(_ id: Int16, list type: FieldType, count: Int, _ body: (inout ThriftCompactWriter) -> Void) {
        fieldHeader(id, .list)
        listHeader(type, count: count)
        body(&self)
    }

    /// A list of structs, each written by `element`.
    public mutating func field<T>(_ id: Int16, structs items: [T], _ element: (inout ThriftCompactWriter, T) -> Void) {
        field(id, list: .struct, count: items.count) { w in
            for item in items {
                w.beginStruct()
                element(&w, item)
                w.endStruct()
            }
        }
    }

    public mutating func field(_ id: Int16, i32s items: [Int32]) {
        field(id, list: .i32, count: items.count) { w in for v in items { w.writeVarint(zigzag(Int64(v))) } }
    }

    public mutating func field(_ id: Int16, strings items: [String]) {
        field(id, list: .binary, count: items.count) { w in for s in items { w.writeBinary(s.utf8) } }
    }

    // MARK: values

    public mutating func listHeader(_ type: FieldType, count: Int) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            writeVarint(UInt64(count))
        }
    }

    public mutating func writeBinary(_ v: some Collection<UInt8>) {
        writeVarint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }

    public mutating func writeVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
}

@inline(__always)
func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
