import Foundation
import Testing
@testable import Kidx

/// Replays the inputs kept from fuzzing (`Tools/fuzz`) and the seeds it starts from: each must be
/// read or refused with a message, never crash.
@Suite("Fuzzing finds, replayed")
struct FuzzRegressionTests {
    static func inputs(_ target: FuzzTarget) -> [(name: String, bytes: [UInt8])] {
        guard let folder = Bundle.module.url(forResource: "fuzz", withExtension: nil, subdirectory: "Resources")?.appendingPathComponent(target.rawValue),
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: folder.appendingPathComponent(name).path).map { (name, [UInt8]($0)) }
        }
    }

    @Test("every kept input is read or refused with a message", arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) {
        let inputs = Self.inputs(target)
        #expect(!inputs.isEmpty, "no inputs kept for \(target.rawValue)")
        for (name, bytes) in inputs {
            let outcome = bytes.withUnsafeBufferPointer { target.run($0) }
            if case .rejected(let message) = outcome {
                #expect(!message.isEmpty, "\(name)")
                // A damaged index names the file at fault.
                if target == .index { #expect(message.contains(".kdx"), "\(name): \(message)") }
            }
        }
    }

    @Test("damaged trailer counts in the dictionary and the store are refused, not trapped on")
    func trailerCounts() {
        for name in ["store-trailer-counts-overflow", "terms-trailer-counts-overflow", "store-two-blocks-claimed"] {
            let input = Self.inputs(.index).first { $0.name == name }
            #expect(input != nil, "\(name) is kept")
            guard let input else { continue }
            let outcome = input.bytes.withUnsafeBufferPointer { FuzzTarget.index.run($0) }
            guard case .rejected(let message) = outcome else {
                Issue.record("\(name) was accepted")
                continue
            }
            #expect(message.contains(name.hasPrefix("store") ? "store.kdx" : "terms.kdx"), "\(message)")
        }
    }

    @Test("the query and document seeds exercise both outcomes")
    func seedsCoverBothOutcomes() {
        let outcomes = Self.inputs(.query).map { input in input.bytes.withUnsafeBufferPointer { FuzzTarget.query.run($0) } }
        #expect(outcomes.contains(.accepted))
        #expect(outcomes.contains { if case .rejected = $0 { return true } else { return false } })
        let documents = Self.inputs(.documents).map { input in input.bytes.withUnsafeBufferPointer { FuzzTarget.documents.run($0) } }
        // The JSON Lines seed has a good line, a line without body and a broken one.
        #expect(documents.contains { if case .rejected(let message) = $0 { return message.contains("malformed JSON") } else { return false } })
    }
}
