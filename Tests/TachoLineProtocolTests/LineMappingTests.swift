import Testing
@testable import TachoLineProtocol

func point(_ text: String) -> LinePoint {
    let parser = LineProtocolParser(bytes: Array(text.utf8))
    var p = LinePoint()
    guard case .point = try! parser.next(into: &p) else { fatalError("not a point: \(text)") }
    return p
}

@Suite("Line protocol → measurement mapping contract")
struct LineMappingTests {
    let battery = [LineColumn("pack", .string, isTag: true), LineColumn("soc", .float64), LineColumn("temp_c", .int64)]

    @Test func anUndeclaredMeasurementTakesItsColumnsFromTheLine() {
        let p = point(#"battery,pack=A,vehicle_id=v1 soc=81.5,temp_c=31i,ok=t,cells=12u,note="x" 1"#)
        let cols = try? LineMapping.inferSchema(p).get()
        #expect(cols == [LineColumn("pack", .string, isTag: true), LineColumn("soc", .float64), LineColumn("temp_c", .int64),
                         LineColumn("ok", .bool), LineColumn("cells", .int64), LineColumn("note", .string)])
        #expect((try? LineMapping.resolve(p, declared: nil).get()) == cols)
    }

    @Test func autoCreateOffRejectsUndeclaredMeasurements() {
        let p = point("battery,vehicle_id=v1 soc=1 1")
        #expect(LineMapping.resolve(p, declared: nil, options: LineMappingOptions(autoCreate: false))
                == .failure(.undeclaredMeasurement("battery")))
    }

    @Test func aMatchingLinePasses() {
        #expect(LineMapping.check(point("battery,vehicle_id=v1,pack=B temp_c=-3i,soc=7.5 5"), against: battery) == nil)
    }

    @Test(arguments: [
        ("battery,pack=A soc=1,temp_c=1i 1", LineMappingError.missingVehicleTag(tag: "vehicle_id")),
        ("battery,vehicle_id=v,pack=A soc=1,temp_c=1i", .missingTimestamp),
        ("battery,vehicle_id=v,pack=A soc=1i,temp_c=1i 1", .typeMismatch(column: "soc", declared: .float64, found: .int64)),
        ("battery,vehicle_id=v,pack=A soc=1,temp_c=1 1", .typeMismatch(column: "temp_c", declared: .int64, found: .float64)),
        (#"battery,vehicle_id=v,pack=A soc="1",temp_c=1i 1"#, .typeMismatch(column: "soc", declared: .float64, found: .string)),
        ("battery,vehicle_id=v,pack=A soc=t,temp_c=1i 1", .typeMismatch(column: "soc", declared: .float64, found: .bool)),
        ("battery,vehicle_id=v,pack=A soc=1,temp_c=9223372036854775808u 1",
         .unsignedOutOfRange(column: "temp_c", value: 9_223_372_036_854_775_808)),
        ("battery,vehicle_id=v,pack=A soc=1,temp_c=1i,volts=3 1", .unknownColumn("volts")),
        ("battery,vehicle_id=v,pack=A,cell=3 soc=1,temp_c=1i 1", .unknownColumn("cell")),
        ("battery,vehicle_id=v,pack=A soc=1 1", .missingColumn("temp_c")),
        ("battery,vehicle_id=v soc=1,temp_c=1i 1", .missingColumn("pack")),
        ("battery,vehicle_id=v,soc=A pack=1,temp_c=1i 1", .tagFieldMismatch(column: "soc", declaredTag: false)),
        ("battery,vehicle_id=v,time=A soc=1,temp_c=1i 1", .reservedName("time")),
        ("battery,vehicle_id=v,pack=A soc=1,temp_c=1i,vehicle_id=1 1", .reservedName("vehicle_id")),
        ("battery,vehicle_id=v,pack=A soc=1,temp_c=1i,pack=1 1", .reservedName("pack")),
    ])
    func mismatchesRejectTheLineWithTheReason(text: String, reason: LineMappingError) {
        #expect(LineMapping.check(point(text), against: battery) == reason, "\(text)")
    }

    @Test func theVehicleTagIsConfigurable() {
        let p = point("can,imei=356938035643809,bus=0 id=418u 1")
        let options = LineMappingOptions(vehicleTag: "imei")
        #expect((try? LineMapping.inferSchema(p, options: options).get()) == [LineColumn("bus", .string, isTag: true), LineColumn("id", .int64)])
        #expect(LineMapping.inferSchema(p) == .failure(.missingVehicleTag(tag: "vehicle_id")))
    }

    @Test func inferenceRejectsWhatItCouldNotStore() {
        #expect(LineMapping.inferSchema(point("m,vehicle_id=v big=18446744073709551615u 1"))
                == .failure(.unsignedOutOfRange(column: "big", value: .max)))
        #expect(LineMapping.inferSchema(point("m,vehicle_id=v v=1"), options: LineMappingOptions(requireTimestamp: false)).map(\.count)
                == .success(1))
    }

    @Test func nanosecondsFloorToMicroseconds() {
        #expect(LineMapping.microseconds(fromNanoseconds: 1_726_293_601_250_000_999) == 1_726_293_601_250_000)
        #expect(LineMapping.microseconds(fromNanoseconds: -1) == -1)
        #expect(LineMapping.microseconds(fromNanoseconds: -1000) == -1)
        #expect(LineMapping.microseconds(fromNanoseconds: 0) == 0)
    }
}
