import CZlib
import Foundation
import Testing
@testable import Kidx

/// `JSONLineReader` against Foundation's `JSONSerialization`, which read corpus lines before it:
/// the same lines accepted and the same strings taken from them.
@Suite("JSON Lines reading")
struct JSONLineReaderTests {
    static let names = ["id", "title", "body", "date", "url", "source"]

    /// What the reader makes of `line`: the six members' values, or nil when it refuses the line.
    static func read(_ line: [UInt8]) -> [String?]? {
        line.withUnsafeBufferPointer { try? JSONLineReader.values(in: $0, names: names.map { Array($0.utf8) }).get() }
    }

    /// What Foundation makes of it: the string members among the six, or nil when it is not an object.
    static func foundation(_ line: [UInt8]) -> [String?]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { return nil }
        return names.map { object[$0] as? String }
    }

    /// A random JSON string literal: plain text, umlauts, escapes of every kind, astral scalars.
    static func randomString(_ generator: inout some RandomNumberGenerator) -> String {
        let pieces = ["Straße", "Pjöngjang", " ", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\r", "\\b", "\\f", "\\u00e4", "\\u00DF",
                      "\\ud83d\\ude00", "😀", "a", "Zeit", "\\u0041", "€", "—", "{", "}", "[", ",", ":"]
        return "\"" + (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined() + "\""
    }

    static func randomValue(_ generator: inout some RandomNumberGenerator, depth: Int = 0) -> String {
        switch Int.random(in: 0..<(depth < 3 ? 8 : 5), using: &generator) {
        case 0: return ["0", "-12", "3.25", "1e5", "-0.5E-3", "42"].randomElement(using: &generator)!
        case 1: return ["true", "false", "null"].randomElement(using: &generator)!
        case 2, 3, 4: return randomString(&generator)
        case 5: return "[" + (0..<Int.random(in: 0...3, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) }.joined(separator: ", ") + "]"
        default: return randomObject(&generator, depth: depth + 1)
        }
    }

    static func randomObject(_ generator: inout some RandomNumberGenerator, depth: Int = 0) -> String {
        let keys = names + ["tags", "author", "bodyText", "Title", "i\\u0064"]
        let members = (0..<Int.random(in: 0...7, using: &generator)).map { _ in
            let key = keys.randomElement(using: &generator)!
            // Of the six, mostly strings (the values kept); anything else of other members.
            let value = names.contains(key) && Bool.random(using: &generator) ? randomString(&generator) : randomValue(&generator, depth: depth)
            return "\"\(key)\"" + [":", " : ", ":\t"].randomElement(using: &generator)! + value
        }
        return "{" + members.joined(separator: [",", ", ", " ,\n"].randomElement(using: &generator)!) + "}"
    }

    @Test("random objects: the same six strings as Foundation's parser (escapes, surrogate pairs, nesting, repeated keys)")
    func randomObjects() {
        var generator = SystemRandomNumberGenerator()
        var compared = 0
        for _ in 0..<3_000 {
            let line = Array(Self.randomObject(&generator).utf8)
            guard let expected = Self.foundation(line) else {
                Issue.record("Foundation refused a generated line: \(String(decoding: line, as: UTF8.self))")
                continue
            }
            // Numbers are kept as written, where Foundation has an NSNumber: compare strings only.
            let read = Self.read(line)
            #expect(read != nil, "\(String(decoding: line, as: UTF8.self))")
            guard let read else { continue }
            for (index, value) in expected.enumerated() where value != nil {
                #expect(read[index] == value, "\(Self.names[index]) of \(String(decoding: line, as: UTF8.self))")
            }
            compared += 1
        }
        #expect(compared == 3_000)
    }

    @Test("damaged lines (bytes dropped, changed, inserted): refused exactly where Foundation refuses them")
    func damagedLines() {
        var generator = SystemRandomNumberGenerator()
        var refused = 0
        for _ in 0..<3_000 {
            var line = Array(Self.randomObject(&generator).utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) where !line.isEmpty {
                let at = Int.random(in: 0..<line.count, using: &generator)
                let byte = Array("{}[]\":,\\ etnu0-.e1".utf8).randomElement(using: &generator)!
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: line.remove(at: at)
                case 1: line[at] = byte
                default: line.insert(byte, at: at)
                }
            }
            let expected = Self.foundation(line) != nil
            #expect((Self.read(line) != nil) == expected, "\(String(decoding: line, as: UTF8.self))")
            if !expected { refused += 1 }
        }
        // Most damage breaks the line; some leaves valid JSON.
        #expect(refused > 1_000)
    }

    @Test("refused: lone surrogates, control characters, bad escapes and numbers, double commas, trailing text, nesting past the limit; invalid UTF-8 said as such; a trailing comma and a byte order mark let through")
    func refusedLines() {
        let malformed = [
            #"{"body": "\ud800"}"#, #"{"body": "\udc00 x"}"#, #"{"body": "\ud800\u0041"}"#, #"{"body": "\x"}"#, #"{"body": "\u12"}"#,
            "{\"body\": \"a\u{01}b\"}", #"{"body": "a"} x"#, #"{"body": "a",,}"#, #"{"body": ["a",,]}"#, #"{,}"#, #"{"body" "a"}"#, #"{"id": 01, "body": "a"}"#,
            #"{"id": 1., "body": "a"}"#, #"{"id": -, "body": "a"}"#, #"{"id": tru, "body": "a"}"#, #"["body", "a"]"#, "", "{",
            #"{"body": "a""#, #"{'body': 'a'}"#,
            "{\"x\": " + String(repeating: "[", count: JSONLineReader.maximumDepth + 1) + String(repeating: "]", count: JSONLineReader.maximumDepth + 1) + ", \"body\": \"a\"}",
        ]
        for text in malformed {
            let result = Array(text.utf8).withUnsafeBufferPointer { JSONLineReader.values(in: $0, names: [Array("body".utf8)]) }
            #expect(throws: JSONLineReader.Failure.malformed, "\(text)") { try result.get() }
        }
        // As Foundation's reader: one trailing comma, and a byte order mark before the object.
        #expect(Self.read(Array(#"{"body": ["a", {"b": 1,},], "id": "x",}"#.utf8)) == ["x", nil, nil, nil, nil, nil])
        #expect(Self.read([0xEF, 0xBB, 0xBF] + Array(#"{"body": "a"}"#.utf8))?[2] == "a")
        // Unlike Foundation's reader, which dropped a U+FEFF starting a string or following an
        // escape (one FANG body has one after a `\n`): the text is kept as written.
        #expect(Self.read(Array("{\"body\": \"\u{FEFF}x\\n\u{FEFF}y\"}".utf8))?[2] == "\u{FEFF}x\n\u{FEFF}y")
        let invalid: [UInt8] = Array(#"{"body": "a"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        let result = invalid.withUnsafeBufferPointer { JSONLineReader.values(in: $0, names: [Array("body".utf8)]) }
        #expect(throws: JSONLineReader.Failure.invalidUTF8) { try result.get() }
        // Nesting up to the limit is read.
        let deep = "{\"x\": " + String(repeating: "[", count: JSONLineReader.maximumDepth - 1) + String(repeating: "]", count: JSONLineReader.maximumDepth - 1) + ", \"body\": \"a\"}"
        #expect(Self.read(Array(deep.utf8))?[2] == "a")
        // A number is kept as written, the last of a repeated member counts.
        #expect(Self.read(Array(#"{"id": 1207, "body": "a", "body": "b", "url": null}"#.utf8)) == ["1207", nil, "b", nil, nil, nil])
    }

    @Test("FANG's first 2,000 lines: the same documents as Foundation's parser gives")
    func fangLines() throws {
        let path = TestSupport.shared + "/corpus/fang-covid-news.jsonl.gz"
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipped: \(path) is absent (../shared is not beside this clone)")
            return
        }
        guard let file = gzopen(path, "rb") else { throw KidxError.io(path: path, reason: "cannot open") }
        defer { gzclose(file) }
        var bytes: [UInt8] = [], newlines = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while newlines < 2_000 {
            let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            guard read > 0 else { break }
            bytes += chunk[..<Int(read)]
            newlines += chunk[..<Int(read)].count(where: { $0 == 0x0A })
        }
        let lines = bytes.split(separator: 0x0A).prefix(2_000)
        #expect(lines.count == 2_000)
        for line in lines {
            let expected = Self.foundation(Array(line))
            #expect(expected != nil)
            #expect(Self.read(Array(line)) == expected)
        }
    }
}
