import Foundation
import Testing

/// Runs the `kidx` executable built beside the test bundle, as a user would.
@Suite("kidx command line")
struct CommandLineTests {
    /// `swift test` builds `kidx` into the same folder as the test bundle.
    static let executable: String? = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<3 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("kidx").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    struct Output {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    static func run(_ arguments: [String], input: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(executable))
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inputPipe = Pipe()
        if input != nil { process.standardInput = inputPipe }
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try inputPipe.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, standardOutput: String(decoding: stdout, as: UTF8.self),
                      standardError: String(decoding: stderr, as: UTF8.self))
    }

    @Test("build updates an existing index; add, delete and optimize change it; stats shows segments",
          .enabled(if: CommandLineTests.executable != nil, "the kidx executable was not found beside the tests"))
    func incrementalCommands() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let corpus = folder + "/corpus", index = folder + "/index"
        try FileManager.default.copyItem(atPath: TestSupport.sampleCorpus, toPath: corpus)
        func json(_ output: Output) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any])
        }
        let first = try json(Self.run(["build", corpus, "--index", index, "--json"]))
        let total = try #require(first["documents"] as? Int)
        let again = try json(Self.run(["build", corpus, "--index", index, "--json"]))
        #expect(again["unchanged"] as? Int == total && again["added"] as? Int == 0)
        // A file changed, one gone, one new.
        try Data("Ersatz\n\nDer Quarkstrudel ist neu.\n".utf8).write(to: URL(fileURLWithPath: corpus + "/sport/pokal-halbfinale.txt"))
        try FileManager.default.removeItem(atPath: corpus + "/sport/trainerwechsel-zweite-liga.txt")
        try Data("Quarkstrudel\n\nQuarkstrudel für alle.\n".utf8).write(to: URL(fileURLWithPath: corpus + "/sport/neu.txt"))
        let update = try json(Self.run(["build", corpus, "--index", index, "--json"]))
        #expect(update["added"] as? Int == 2 && update["replaced"] as? Int == 1 && update["deleted"] as? Int == 2)
        #expect(update["documents"] as? Int == total && update["segments"] as? Int == 2)
        let hits = try Self.run(["search", "Quarkstrudel", "--index", index, "--json"])
        #expect(hits.standardOutput.contains("sport/neu") && hits.standardOutput.contains("sport/pokal-halbfinale"))
        // kidx add and delete.
        let extra = folder + "/extra.txt"
        try Data("Nachtrag\n\nEin Quarkstrudel mehr.\n".utf8).write(to: URL(fileURLWithPath: extra))
        let added = try json(Self.run(["add", extra, "--index", index, "--json"]))
        #expect(added["added"] as? Int == 1 && added["documents"] as? Int == total + 1)
        let deleted = try Self.run(["delete", "sport/neu", "nicht-da", "--index", index])
        #expect(deleted.status == 1 && deleted.standardError.contains("nicht-da") && deleted.standardOutput.contains("deleted 1"))
        let stats = try json(Self.run(["stats", "--index", index, "--json"]))
        #expect(stats["documents"] as? Int == total && (stats["segments"] as? Int ?? 0) >= 2 && (stats["deleted"] as? Int ?? 0) >= 1)
        let optimized = try json(Self.run(["optimize", "--index", index, "--json"]))
        #expect(optimized["segments"] as? Int == 1 && optimized["documents"] as? Int == total)
        #expect(try Self.run(["check", "--index", index]).status == 0)
        let after = try Self.run(["search", "Quarkstrudel", "--index", index, "--json"])
        #expect(!after.standardOutput.contains("sport/neu") && after.standardOutput.contains("extra"))
    }

    @Test("a build reports bad lines and duplicate ids by file and line, counts them, and indexes the rest",
          .enabled(if: executable != nil, "the kidx executable was not found beside the tests"))
    func badLinesInBuild() throws {
        let corpus = try TestSupport.temporaryFolder(), index = try TestSupport.temporaryFolder()
        defer { for folder in [corpus, index] { try? FileManager.default.removeItem(atPath: folder) } }
        let lines = [#"{"id": "a", "body": "Die Regierung verhängt Sanktionen."}"#, #"{"id": "b", "body": kaputt}"#,
                     #"{"id": "a", "body": "Noch einmal a."}"#, #"{"id": "c", "body": "Die Straße bleibt gesperrt."}"#]
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: corpus + "/meldungen.jsonl"))
        let build = try Self.run(["build", corpus, "--index", index, "--json"])
        #expect(build.status == 0)
        #expect(build.standardError.contains("meldungen.jsonl:2: malformed JSON"))
        #expect(build.standardError.contains("meldungen.jsonl:3: duplicate document id a"))
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(build.standardOutput.utf8)) as? [String: Any])
        #expect(summary["documents"] as? Int == 2)
        #expect(summary["skipped"] as? Int == 2)
    }

    @Test("analyze reads lines from standard input and prints one JSON object per line, variants marked",
          .enabled(if: executable != nil, "the kidx executable was not found beside the tests"))
    func analyzeLines() throws {
        let output = try Self.run(["analyze", "--json", "--index", "/nonexistent"], input: "Soeder Söder\nDie Straße nach Nord-Korea\n")
        #expect(output.status == 0)
        let lines = output.standardOutput.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let tokens = try #require(first["tokens"] as? [[String: Any]])
        #expect(tokens.map { $0["word"] as? String } == ["söder", "söder"])
        #expect(tokens.map { $0["variant"] as? Bool } == [true, false])
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        let kinds = try #require(second["tokens"] as? [[String: Any]]).map { "\($0["word"] ?? "") \($0["kind"] ?? "")" }
        #expect(kinds.contains("strasse word") && kinds.contains("nordkorea hyphenJoined") && kinds.contains("korea hyphenPart"))
    }

    @Test("build, search (text and JSON), stats, check and show on the sample corpus",
          .enabled(if: executable != nil, "the kidx executable was not found beside the tests"))
    func endToEnd() throws {
        let index = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let build = try Self.run(["build", TestSupport.sampleCorpus, "--index", index])
        #expect(build.status == 0)
        #expect(build.standardOutput.contains("indexed"))

        let text = try Self.run(["search", "Sanktionen", "--index", index])
        #expect(text.status == 0)
        #expect(text.standardOutput.contains("**Sanktionen**"))

        let json = try Self.run(["search", "Sanktionen", "--index", index, "--json", "--limit", "3"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let hits = try #require(object["hits"] as? [[String: Any]])
        #expect(hits.count == 3)
        let first = hits[0]
        let snippet = try #require(first["snippet"] as? String)
        let highlight = try #require((first["highlights"] as? [[String: Int]])?.first)
        let bytes = Array(snippet.utf8)
        let marked = String(decoding: bytes[highlight["byte_start"]!..<highlight["byte_end"]!], as: UTF8.self)
        #expect(marked.lowercased().hasPrefix("sanktion"))

        let stats = try Self.run(["stats", "--index", index, "--json"])
        let statsObject = try #require(try JSONSerialization.jsonObject(with: Data(stats.standardOutput.utf8)) as? [String: Any])
        #expect((statsObject["documents"] as? Int ?? 0) >= 20)

        #expect(try Self.run(["check", "--index", index]).status == 0)
        let show = try Self.run(["show", "politik/eu-sanktionspaket", "--index", index])
        #expect(show.status == 0 && show.standardOutput.contains("Sanktion"))
    }

    @Test("missing index, bad query and empty corpus: non-zero exit and one line of reason",
          .enabled(if: executable != nil, "the kidx executable was not found beside the tests"))
    func failures() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let missing = try Self.run(["search", "Sanktionen", "--index", folder + "/nichts"])
        #expect(missing.status != 0)
        #expect(missing.standardError.contains("no index at"))
        #expect(missing.standardError.split(separator: "\n").count == 1)

        let empty = folder + "/leer"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let build = try Self.run(["build", empty, "--index", folder + "/index"])
        #expect(build.status != 0)
        #expect(build.standardError.contains("no documents found"))

        #expect(try Self.run(["build", TestSupport.sampleCorpus, "--index", folder + "/index"]).status == 0)
        let stopWords = try Self.run(["search", "und der die", "--index", folder + "/index"])
        #expect(stopWords.status != 0)
        #expect(stopWords.standardError.contains("bad query"))
    }

    @Test("query syntax on the command line: operators, --sort date, --explain in JSON, errors with positions",
          .enabled(if: executable != nil, "the kidx executable was not found beside the tests"))
    func querySyntax() throws {
        let index = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: index) }
        #expect(try Self.run(["build", TestSupport.sampleCorpus, "--index", index]).status == 0)
        func ids(_ arguments: [String]) throws -> [String] {
            let output = try Self.run(["search"] + arguments + ["--index", index, "--json", "--limit", "50"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any])
            return try #require(object["hits"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        }
        let sanctions = try ids(["Sanktionen"]), korea = try ids(["Nordkorea"])
        #expect(Set(try ids(["Sanktionen", "--and"])) == Set(try ids(["Sanktionen AND Sanktionen"])))
        #expect(Set(try ids(["Sanktionen -Nordkorea"])) == Set(sanctions).subtracting(korea))
        let dated = try Self.run(["search", "Sanktionen", "--sort", "date", "--index", index, "--json", "--limit", "50"])
        let hits = try #require((try JSONSerialization.jsonObject(with: Data(dated.standardOutput.utf8)) as? [String: Any])?["hits"] as? [[String: Any]])
        let dates = hits.map { ($0["date"] as? String) ?? "" }
        #expect(dates.filter { !$0.isEmpty } == dates.filter { !$0.isEmpty }.sorted(by: >), "newest first")

        let explained = try Self.run(["search", "Atomwaffen", "--explain", "--index", index, "--json", "--limit", "1"])
        let hit = try #require(((try JSONSerialization.jsonObject(with: Data(explained.standardOutput.utf8)) as? [String: Any])?["hits"] as? [[String: Any]])?.first)
        let parts = try #require(hit["explanation"] as? [[String: Any]])
        let sum = parts.compactMap { $0["score"] as? Double }.reduce(0, +)
        #expect(abs(sum - (hit["score"] as? Double ?? 0)) < 1e-3)
        #expect(parts.contains { ($0["match"] as? String)?.contains("atom") == true })

        let bad = try Self.run(["search", "Sanktionen AND (Nordkorea", "--index", index])
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("character 16"), "\(bad.standardError)")
        #expect(!bad.standardError.contains("\n\n"), "one line")
    }
}
