import Foundation
import MoodCore
import Testing

@Suite struct SafetensorsTests {
    /// A safetensors file whose header is `json` over `body`.
    func file(header json: String, body: Data = Data(count: 16)) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes + Data(json.utf8) + body
    }

    @Test func tensorsAndMetadataRoundTrip() throws {
        let tensors: [String: Safetensors.Entry] = [
            "layers.10.weight": .init(shape: [2, 2], values: .f32([1, 2, 3, 4])),
            "layers.2.step": .init(shape: [1], values: .u64([7])),
        ]
        let data = try Safetensors.encode(tensors, metadata: ["format": "test-1"])
        let read = try Safetensors.decode(data, path: "a.safetensors")
        #expect(read.tensors == tensors)
        #expect(read.metadata == ["format": "test-1"])
        // The data start stays 8-byte aligned.
        #expect(data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } % 8 == 0)
    }

    @Test func aHeaderEntryWithoutItsDtypeNamesFileTensorAndField() throws {
        let data = file(header: #"{"w":{"shape":[4],"data_offsets":[0,16]}}"#)
        let error = try #require(throws: InputError.self) { try Safetensors.decode(data, path: "model.safetensors") }
        #expect(error.path == "model.safetensors")
        #expect(error.problem.hasPrefix("tensor w: malformed header entry"), "\(error)")
        #expect(error.problem.contains("\"w.dtype\""), "\(error)")
    }

    @Test func metadataMustMapStringsToStrings() throws {
        let data = file(header: #"{"__metadata__":{"epoch":3},"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#)
        let error = try #require(throws: InputError.self) {
            try Safetensors.decode(data, path: "checkpoint.safetensors")
        }
        #expect(
            error.problem.contains("__metadata__") && error.problem.contains("\"__metadata__.epoch\" is not a string"),
            "\(error)")
    }

    @Test func aHeaderThatIsNoObjectIsABadHeader() throws {
        let error = try #require(throws: InputError.self) {
            try Safetensors.decode(file(header: "[1, 2]"), path: "x.safetensors")
        }
        #expect(error.problem.hasPrefix("not a safetensors file: bad header"), "\(error)")
    }

    @Test func twoOffsetsPerTensor() throws {
        let data = file(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16,32]}}"#)
        let error = try #require(throws: InputError.self) { try Safetensors.decode(data, path: "m.safetensors") }
        #expect(error.problem.contains("data_offsets holds 3 numbers, not 2"), "\(error)")
    }
}
