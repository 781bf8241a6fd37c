import Testing
import TachoFormat
import TachoTestSupport

/// `Catalog.resolving` (FORMAT.md §7): what a declaration may add, what it may not, and the
/// catalog file's bytes.
@Suite struct CatalogTests {
    static let alarms = Measurement(id: 0, name: "alarms", columns: [
        ColumnSpec("kind", .string, identity: true),
        ColumnSpec("level", .int64),
        ColumnSpec("files", .stringList, nullable: true),
    ])

    @Test func builtInsAreTheDefault() throws {
        #expect(Catalog.builtIn.measurements == [.detections, .status])
        #expect(try Catalog.builtIn.resolving([.detections, .status]) == .builtIn)
        #expect(try Catalog.builtIn.resolving([]) == .builtIn)
    }

    @Test func newMeasurementGetsTheNextIDAndColumnIDs() throws {
        let c = try Catalog.builtIn.resolving([Self.alarms])
        let a = try #require(c.measurement(named: "alarms"))
        #expect(a.id == 3)
        #expect(a.columns.map(\.id) == [1, 2, 3])
        #expect(c.measurement(id: 1) == .detections && c.measurement(id: 2) == .status)
        // Declaring it again changes nothing.
        #expect(try c.resolving([Self.alarms]) == c)
    }

    @Test func addedNullableColumnGetsANewIDAndKeepsTheOthers() throws {
        let c = try Catalog.builtIn.resolving([Self.alarms])
        let more = Measurement(id: 0, name: "alarms", columns: [
            ColumnSpec("ack", .bool, nullable: true), ColumnSpec("kind", .string, identity: true), ColumnSpec("level", .int64),
        ])
        let a = try #require(try c.resolving([more]).measurement(named: "alarms"))
        // Catalog order kept (files stays though not declared: it is nullable), ack appended.
        #expect(a.columns.map(\.name) == ["kind", "level", "files", "ack"])
        #expect(a.columns.map(\.id) == [1, 2, 3, 4])
        // A status with a new nullable column: the built-in's first column keeps id 1.
        let status = Measurement(id: 0, name: "status", columns: [ColumnSpec("status", .string), ColumnSpec("speed", .float64, nullable: true)], latestColumn: 0)
        let s = try #require(try c.resolving([status]).measurement(named: "status"))
        #expect(s.columns.map(\.id) == [1, 2] && s.latestColumn == 0)
    }

    @Test func contradictionsAreRefusedNamingMeasurementAndColumn() throws {
        let c = try Catalog.builtIn.resolving([Self.alarms])
        func refused(_ cols: [ColumnSpec], latest: Int? = nil) -> CatalogError? {
            do {
                _ = try c.resolving([Measurement(id: 0, name: "alarms", columns: cols, latestColumn: latest)])
                return nil
            } catch {
                return error
            }
        }
        let kind = ColumnSpec("kind", .string, identity: true), level = ColumnSpec("level", .int64)
        #expect(refused([kind, ColumnSpec("level", .float64)]) == .typeChanged(measurement: "alarms", column: "level", from: .int64, to: .float64))
        #expect(refused([ColumnSpec("kind", .string), level]) == .identityChanged(measurement: "alarms", column: "kind"))
        #expect(refused([kind, level, ColumnSpec("zone", .int64)]) == .nonNullableColumnAdded(measurement: "alarms", column: "zone"))
        #expect(refused([kind, level, ColumnSpec("zone", .int64, identity: true)]) == .identityChanged(measurement: "alarms", column: "zone"))
        #expect(refused([kind]) == .requiredColumnMissing(measurement: "alarms", column: "level"))
        #expect(refused([kind, level, ColumnSpec("files", .stringList)]) == .nullableMadeRequired(measurement: "alarms", column: "files"))
        #expect(refused([kind, ColumnSpec("level", .int64, nullable: true)]) == nil)  // relaxing is fine
        // The latest column may move only to a column of the same type.
        let withLatest = try c.resolving([Measurement(id: 0, name: "alarms", columns: [kind, level], latestColumn: 1)])
        do {
            _ = try withLatest.resolving([Measurement(id: 0, name: "alarms", columns: [kind, level], latestColumn: 0)])
            Issue.record("latest column type change accepted")
        } catch {
            #expect(error == .latestColumnTypeChanged(measurement: "alarms", column: "kind", from: .int64, to: .string))
        }
        // Built-ins are checked the same way.
        #expect(throws: CatalogError.typeChanged(measurement: "status", column: "status", from: .string, to: .int64)) {
            try Catalog.builtIn.resolving([Measurement(id: 2, name: "status", columns: [ColumnSpec("status", .int64)])])
        }
    }

    @Test func declarationsAreValidated() {
        func error(_ m: Measurement) -> CatalogError? {
            do { _ = try Catalog.builtIn.resolving([m]); return nil } catch { return error }
        }
        #expect(error(Measurement(id: 0, name: "9lives", columns: [])) == .invalidName(measurement: "9lives", column: nil))
        #expect(error(Measurement(id: 0, name: String(repeating: "a", count: 65), columns: [])) != nil)
        #expect(error(Measurement(id: 0, name: String(repeating: "a", count: 64), columns: [])) == nil)
        #expect(error(Measurement(id: 0, name: "m", columns: [ColumnSpec("a-b", .int64)])) == .invalidName(measurement: "m", column: "a-b"))
        #expect(error(Measurement(id: 0, name: "m", columns: [ColumnSpec("a", .int64), ColumnSpec("a", .bool)])) == .duplicateColumn(measurement: "m", column: "a"))
        #expect(error(Measurement(id: 0, name: "m", columns: [ColumnSpec("a", .int64, identity: true, nullable: true)])) == .nullableIdentity(measurement: "m", column: "a"))
        #expect(error(Measurement(id: 0, name: "m", columns: [ColumnSpec("a", .stringList, identity: true)])) == .identityType(measurement: "m", column: "a", type: .stringList))
        #expect(error(Measurement(id: 0, name: "m", columns: [ColumnSpec("a", .int64, nullable: true)], latestColumn: 0)) == .nullableLatestColumn(measurement: "m", column: "a"))
        let many = (0...1024).map { ColumnSpec("c\($0)", .int64, nullable: true) }
        #expect(error(Measurement(id: 0, name: "m", columns: many)) == .tooManyColumns(measurement: "m", count: 1025))
        #expect(error(Measurement(id: 0, name: "m", columns: Array(many.prefix(1024)))) == nil)
        do {
            _ = try Catalog.builtIn.resolving([Self.alarms, Self.alarms])
            Issue.record("duplicate accepted")
        } catch {
            #expect(error == .duplicateMeasurement("alarms"))
        }
    }

    /// Ids fit the segment header's byte: 253 declared measurements after the built-ins fill
    /// it, the next is refused.
    @Test func measurementIDsFitOneByte() throws {
        let full = try Catalog.builtIn.resolving((3...255).map { Measurement(id: 0, name: "m\($0)", columns: []) })
        #expect(full.measurements.last?.id == 255)
        #expect(throws: CatalogError.tooManyMeasurements("one_more")) {
            try full.resolving([Measurement(id: 0, name: "one_more", columns: [])])
        }
    }

    /// A new measurement keeps the id it declares when it is free; a taken one is replaced
    /// by the next free id; an existing measurement keeps its id whatever is declared.
    @Test func declaredIDsAreKeptWhenFree() throws {
        let power = Measurement(id: 5, name: "power", columns: [ColumnSpec("value", .float64)])
        let locations = Measurement(id: 2, name: "locations", columns: [ColumnSpec("lat", .float64)])  // 2 is status's
        let c = try Catalog.builtIn.resolving([power, locations])
        #expect(c.measurement(named: "power")?.id == 5)
        #expect(c.measurement(named: "locations")?.id == 6)
        #expect(c.measurements.map(\.id) == [1, 2, 5, 6])
        #expect(try c.resolving([power.withID(9)]).measurement(named: "power")?.id == 5)
        // Ids run out at the top: the least free one is used.
        let top = try Catalog.builtIn.resolving([Measurement(id: 255, name: "last", columns: [])])
        #expect(try top.resolving([Measurement(id: 0, name: "next", columns: [])]).measurement(named: "next")?.id == 3)
    }

    @Test func fileRoundTripsAndDamageIsDetected() throws {
        let c = try Catalog.builtIn.resolving([
            Self.alarms,
            Measurement(id: 0, name: "power", columns: [ColumnSpec("volts", .float64), ColumnSpec("on", .bool, nullable: true)], latestColumn: 1 - 1),
        ])
        let bytes = c.encode()
        #expect(Array(bytes[0..<8]) == [0x54, 0x43, 0x41, 0x54, 1, 0, 0, 0])  // "TCAT", version 1, reserved
        #expect(try Catalog.decode(bytes, path: "CATALOG") == c)
        for i in bytes.indices {
            var b = bytes
            b[i] ^= 0x01
            #expect(throws: CatalogError.self, "flip at \(i)") { try Catalog.decode(b, path: "CATALOG") }
        }
        for n in 0..<bytes.count {
            #expect(throws: CatalogError.self, "truncated to \(n)") { try Catalog.decode(Array(bytes[..<n]), path: "CATALOG") }
        }
        // A newer version with an intact CRC is not damage.
        var newer = Array(bytes.dropLast(4))
        newer[4] = 3
        newer += withUnsafeBytes(of: CRC32C.checksum(newer).littleEndian, Array.init)
        #expect(throws: CatalogError.newerVersion(path: "CATALOG", version: 3)) { try Catalog.decode(newer, path: "CATALOG") }
    }

    /// The version 1 bytes of FORMAT.md §7, written out by hand as a tacho before partition
    /// widths wrote them: they decode to measurements without a width of their own, and a
    /// catalog without widths is still written as exactly these bytes.
    @Test func versionOneBytesStillReadAndWritten() throws {
        var body: [UInt8] = [0x54, 0x43, 0x41, 0x54, 1, 0, 0, 0, 3]  // "TCAT", version 1, reserved, 3 measurements
        func str(_ s: String) -> [UInt8] { [UInt8(s.utf8.count)] + Array(s.utf8) }
        body += [1] + str("detections") + [0, 2] + [1] + str("object_type") + [3, 1] + [2] + str("value") + [1, 0]
        body += [2] + str("status") + [1, 1] + [1] + str("status") + [3, 0]
        // detections__1d: by object_type, count, value_sum (nullable)
        body += [3] + str("detections__1d") + [0, 3] + [1] + str("object_type") + [3, 1] + [2] + str("count") + [1, 0]
            + [3] + str("value_sum") + [1, 2]
        let bytes = body + withUnsafeBytes(of: CRC32C.checksum(body).littleEndian, Array.init)
        let c = try Catalog.decode(bytes, path: "catalog-1.cat")
        #expect(c.measurements.map(\.name) == ["detections", "status", "detections__1d"])
        #expect(c.measurements.allSatisfy { $0.partitionWidth == nil })
        #expect(c.measurement(id: 1) == .detections && c.measurement(id: 2) == .status)
        #expect(c.encode() == bytes)
    }

    /// Version 2: each measurement's partition width after its latest column (0: the store's).
    @Test func partitionWidthsRoundTripAsVersionTwo() throws {
        let day: Int64 = 86_400_000_000
        let c = try Catalog.builtIn.resolving([Self.alarms.withPartitionWidth(384 * day)])
        #expect(c.measurement(named: "alarms")?.partitionWidth == 384 * day)
        let bytes = c.encode()
        #expect(Array(bytes[0..<8]) == [0x54, 0x43, 0x41, 0x54, 2, 0, 0, 0])
        // detections: id, name, latest 0, width 0, 2 columns …
        #expect(Array(bytes[9..<(9 + 1 + 11 + 3)]) == [1, 10] + Array("detections".utf8) + [0, 0, 2])
        let back = try Catalog.decode(bytes, path: "catalog-2.cat")
        #expect(back == c)
        #expect(back.measurement(id: 1)?.partitionWidth == nil)
        for n in 0..<bytes.count {
            #expect(throws: CatalogError.self, "truncated to \(n)") { try Catalog.decode(Array(bytes[..<n]), path: "catalog-2.cat") }
        }
    }

    /// A stored measurement keeps its width whatever is declared (its rows are partitioned by
    /// it); a new one takes the declared width; a width ≤ 0 is refused.
    @Test func storedWidthIsFixed() throws {
        let day: Int64 = 86_400_000_000
        let stored = try Catalog.builtIn.resolving([Self.alarms])
        let redeclared = try stored.resolving([Self.alarms.withPartitionWidth(32 * day)])
        #expect(redeclared.measurement(named: "alarms")?.partitionWidth == nil)
        #expect(redeclared == stored)
        let wide = try Catalog.builtIn.resolving([Self.alarms.withPartitionWidth(32 * day)])
        #expect(try wide.resolving([Self.alarms]).measurement(named: "alarms")?.partitionWidth == 32 * day)
        #expect(try wide.resolving([Self.alarms.withPartitionWidth(day)]).measurement(named: "alarms")?.partitionWidth == 32 * day)
        #expect(throws: CatalogError.invalidPartitionWidth(measurement: "alarms", width: 0)) {
            try Catalog.builtIn.resolving([Self.alarms.withPartitionWidth(0)])
        }
    }
}
