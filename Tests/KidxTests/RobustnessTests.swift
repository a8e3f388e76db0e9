import Foundation
import Testing
@testable import Kidx

@Suite("Damaged indexes and bad input")
struct RobustnessTests {
    /// The sample corpus indexed, with one document then deleted: every kind of file is there.
    private static func sampleIndex() throws -> String {
        let index = try TestSupport.temporaryFolder("robust")
        try TestSupport.buildIndex(of: TestSupport.sampleCorpus, at: index)
        let writer = try IndexWriter(directory: index, mode: .update)
        #expect(writer.delete(id: "sport/bundesliga-spieltag"))
        try writer.commit()
        return index
    }

    @Test("a missing index is a clear error")
    func missingIndex() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: KidxError.indexMissing(path: folder)) { try IndexReader(directory: folder) }
    }

    @Test("a truncated file is refused at open", arguments: IndexFormat.Kind.published)
    func truncated(kind: IndexFormat.Kind) throws {
        let index = try Self.sampleIndex()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let path = try TestSupport.indexFile(index, kind)
        let data = try #require(FileManager.default.contents(atPath: path))
        for keep in [0, 10, data.count / 2, data.count - 1] {
            try data.prefix(keep).write(to: URL(fileURLWithPath: path))
            #expect(throws: KidxError.self) { try IndexReader(directory: index) }
        }
    }

    @Test("a flipped bit anywhere is caught by check, and a search reading it fails with the file's name instead of answering wrongly",
          arguments: IndexFormat.Kind.published)
    func flippedBits(kind: IndexFormat.Kind) throws {
        let index = try Self.sampleIndex()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let path = try TestSupport.indexFile(index, kind)
        let original = try #require(FileManager.default.contents(atPath: path))
        var generator = SystemRandomNumberGenerator()
        let queries = ["Sanktionen", "\"Kim Jong Un\"", "Nordkorea Atomwaffentests", "Straße", "Bundesliga Trikot", "Atom*", "title:Nordkorea"]
        func answers(_ searcher: Searcher, _ query: String) throws -> [String] {
            try searcher.search(query, options: SearchOptions(limit: 50, mode: .any)).hits.map { "\($0.document?.id ?? "?") \($0.score) \(String(describing: $0.snippet))" }
        }
        let intact = try Searcher(reader: IndexReader(directory: index))
        let expected = try queries.map { try answers(intact, $0) }
        var detected = 0  // refused at open or failed searches
        for _ in 0..<40 {
            var damaged = original
            let bit = Int.random(in: 0..<(damaged.count * 8), using: &generator)
            damaged[bit / 8] ^= UInt8(1 << (bit % 8))
            try damaged.write(to: URL(fileURLWithPath: path))
            let reader: IndexReader
            do {
                reader = try IndexReader(directory: index)
            } catch let error as KidxError {
                #expect("\(error)".contains(kind.fileName) || "\(error)".contains("segment"), "\(error)")
                detected += 1
                continue  // refused at open (small files are one chunk, checked as the reader opens)
            }
            let searcher = Searcher(reader: reader)
            for (query, answer) in zip(queries, expected) {
                // The same answer as the intact index (the damage lies elsewhere) or an error
                // naming the damaged file; never a different answer, never a crash.
                do {
                    #expect(try answers(searcher, query) == answer, "bit \(bit) of \(kind.fileName), query \(query)")
                } catch let error as KidxError {
                    detected += 1
                    #expect("\(error)".contains(kind.fileName), "\(error)")
                }
            }
            // The document table is read by updates and by id lookups.
            do {
                _ = try reader.allIDs()
            } catch let error as KidxError {
                detected += 1
                #expect("\(error)".contains(kind.fileName), "\(error)")
            }
            #expect(throws: KidxError.self) { try reader.verify() }
        }
        #expect(detected > 0)
    }

    @Test("on a real index, damaged postings open (no full check at open) and fail exactly the searches that read them",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func lazyBlockChecks() throws {
        let source = try #require(TestSupport.newsIndex)
        let documents = try #require(TestSupport.newsDocuments)
        let index = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: index) }
        try FileManager.default.removeItem(atPath: index)
        try FileManager.default.copyItem(atPath: source, toPath: index)
        // Queries: the first words of 150 headlines, one word each.
        let queries = documents.prefix(150).compactMap { $0.title.split(separator: " ").first(where: { $0.count > 4 && $0.allSatisfy(\.isLetter) && !GermanStopWords.words.contains($0.lowercased()) }).map(String.init) }
        func answers(_ searcher: Searcher, _ query: String) throws -> [String] {
            try searcher.search(query, options: SearchOptions(limit: 10, mode: .any, loadDocuments: false)).hits.map { "\($0.doc) \($0.score)" }
        }
        let expected = try queries.map { try answers(Searcher(reader: IndexReader(directory: index)), $0) }

        let path = try TestSupport.indexFile(index, .postings)
        var damaged = try #require(FileManager.default.contents(atPath: path))
        #expect(damaged.count > 1 << 20)
        damaged[damaged.count / 2] ^= 0x10
        try damaged.write(to: URL(fileURLWithPath: path))

        let reader = try IndexReader(directory: index)  // opens: the damaged chunk is not read yet
        let searcher = Searcher(reader: reader)
        var same = 0
        for (query, answer) in zip(queries, expected) {
            do {
                #expect(try answers(searcher, query) == answer, "\(query)")
                same += 1
            } catch let error as KidxError {
                #expect("\(error)".contains("postings.kdx") && "\(error)".contains("checksum"), "\(error)")
            }
        }
        #expect(same > 0)
        #expect(throws: KidxError.self) { try reader.verify() }
        // One chunk of 64 KiB is damaged; whether these queries read it depends on the data, so
        // the damage is also read directly: every list whose bytes lie in that chunk fails.
        var listsInDamagedChunk = 0
        let segment = reader.segments[0]
        try segment.terms.forEachEntry { key, info in
            guard info.docFreq > 0 else { return }
            guard info.postingsOffset >> IndexFormat.chunkShift == (damaged.count / 2 - IndexFormat.headerSize) >> IndexFormat.chunkShift else { return }
            listsInDamagedChunk += 1
            #expect(throws: KidxError.self) {
                var cursor = try segment.cursor(info)
                while try cursor.next() {}
            }
        }
        #expect(listsInDamagedChunk > 0)
    }

    @Test("an interrupted build leaves the previous index usable, and the next build cleans up")
    func interruptedBuild() throws {
        let index = try Self.sampleIndex()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let before = try TestSupport.ids(Searcher(reader: IndexReader(directory: index)), "Sanktionen")
        // What a build killed mid-way leaves: a half-written generation under a temporary name.
        let leftover = index + "/generation-000002.tmp-999999"
        try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
        try Data("half written".utf8).write(to: URL(fileURLWithPath: leftover + "/postings.kdx"))
        #expect(try TestSupport.ids(Searcher(reader: IndexReader(directory: index)), "Sanktionen") == before)
        // A searcher opened before a rebuild keeps its view; the rebuild removes the leftover.
        let oldSearcher = Searcher(reader: try IndexReader(directory: index))
        try TestSupport.buildIndex([Document(id: "neu", body: "Neue Sanktionen")], at: index)
        #expect(try TestSupport.ids(oldSearcher, "Sanktionen") == before)
        #expect(try TestSupport.ids(Searcher(reader: IndexReader(directory: index)), "Sanktionen") == ["neu"])
        #expect(!FileManager.default.fileExists(atPath: leftover))
    }

    @Test("a writer dropped mid-build, its parts' stores still compressing on their thread, leaves nothing behind and the index as it was",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func abandonedBuild() throws {
        let index = try Self.sampleIndex()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let before = try TestSupport.ids(Searcher(reader: IndexReader(directory: index)), "Sanktionen")
        let documents = Array(try #require(TestSupport.newsDocuments).prefix(600))
        var spooled = false
        do {
            let writer = try IndexWriter(directory: index, threads: 2)
            writer.memoryBudget = 2 << 20  // parts spilled, their stores left to the compression thread
            for start in stride(from: 0, to: documents.count, by: 100) {
                try writer.add(contentsOf: Array(documents[start..<(start + 100)]))
            }
            let temporary = try FileManager.default.contentsOfDirectory(atPath: index).filter { $0.contains(".tmp") }
            spooled = try temporary.contains { try FileManager.default.subpathsOfDirectory(atPath: index + "/" + $0).contains { $0.hasSuffix(".spool") } }
        }  // dropped without a commit
        #expect(spooled, "the build spooled its stored documents")
        #expect(try FileManager.default.contentsOfDirectory(atPath: index).filter { $0.contains(".tmp") }.isEmpty)
        #expect(try TestSupport.ids(Searcher(reader: IndexReader(directory: index)), "Sanktionen") == before)
    }

    @Test("unreadable files are reported by name and line and skipped; nothing else is lost")
    func badInput() throws {
        let corpus = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: corpus) }
        func write(_ name: String, _ bytes: [UInt8]) throws {
            let url = URL(fileURLWithPath: corpus + "/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        try write("gut.txt", Array("Gute Nachricht\n\nDie Straße ist wieder frei.".utf8))
        try write("kaputt.txt", Array("Ungültig ".utf8) + [0xC3, 0x28] + Array(" Text".utf8))
        try write("bild.txt", [0x89, 0x50, 0x4E, 0x47, 0x00, 0x01])
        try write("tief/ordner/meldungen.jsonl", Array("""
        {"id": "m1", "title": "Eins", "body": "Sanktionen gegen Nordkorea"}
        {"id": "m2", "title": "Zwei", "body": kaputt}
        {"id": "m3", "title": "Drei"}

        {"id": "m4", "title": "Vier", "body": "Die Bundesregierung berät"}
        """.utf8))
        try write("ignoriert.pdf", [0x25, 0x50, 0x44, 0x46])
        var documents: [Document] = []
        var problems: [CorpusProblem] = []
        try CorpusReader(root: corpus).read({ document, _ in documents.append(document) }, problem: { problems.append($0) })
        #expect(documents.map(\.id).sorted() == ["gut", "m1", "m4"])
        #expect(documents.first { $0.id == "gut" }?.title == "Gute Nachricht")
        let described = problems.map(\.description).sorted()
        #expect(described.count == 4)
        #expect(described.contains { $0.hasPrefix("bild.txt: binary") })
        #expect(described.contains { $0.hasPrefix("kaputt.txt: invalid UTF-8") })
        #expect(described.contains { $0.hasPrefix("tief/ordner/meldungen.jsonl:2: malformed JSON") })
        #expect(described.contains { $0.hasPrefix("tief/ordner/meldungen.jsonl:3: no \"body\"") })
    }

    @Test("a 100 MB line, NUL bytes, deep folders, a symbolic link loop and duplicate ids: reported by file and line, the rest read")
    func hostileCorpus() throws {
        let corpus = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: corpus) }
        let manager = FileManager.default
        var huge = Array(#"{"id": "riesig", "body": ""#.utf8)
        huge += [UInt8](repeating: UInt8(ascii: "a"), count: 100_000_000)
        huge += Array(#""}"#.utf8)
        var lines = Array(#"{"id": "vorher", "body": "Die Straße ist gesperrt."}"#.utf8) + [0x0A]
        lines += huge + [0x0A]
        lines += Array(#"{"id": "nul", "body": "Null"#.utf8) + [0x00] + Array(#"byte"}"#.utf8) + [0x0A]
        lines += Array(#"{"id": "vorher", "body": "Eine zweite Meldung mit derselben Kennung."}"#.utf8) + [0x0A]
        lines += Array(#"{"id": "nachher", "body": "Sanktionen gegen Nordkorea."}"#.utf8) + [0x0A]
        try Data(lines).write(to: URL(fileURLWithPath: corpus + "/meldungen.jsonl"))
        // 120 folders deep, a text file at the bottom.
        let deep = (0..<120).map { "e\($0)" }.joined(separator: "/")
        try manager.createDirectory(atPath: corpus + "/" + deep, withIntermediateDirectories: true)
        try Data("Tief unten\n\nDer Bericht aus dem Keller.".utf8).write(to: URL(fileURLWithPath: corpus + "/" + deep + "/keller.txt"))
        try manager.createSymbolicLink(atPath: corpus + "/e0/schleife", withDestinationPath: corpus)

        var read: [(Document, CorpusLocation)] = []
        var problems: [CorpusProblem] = []
        try CorpusReader(root: corpus).read({ read.append(($0, $1)) }, problem: { problems.append($0) })
        #expect(read.map(\.0.id) == [deep + "/keller", "vorher", "vorher", "nachher"])
        #expect(read.map(\.1) == [CorpusLocation(path: deep + "/keller.txt", line: nil), CorpusLocation(path: "meldungen.jsonl", line: 1),
                                  CorpusLocation(path: "meldungen.jsonl", line: 4), CorpusLocation(path: "meldungen.jsonl", line: 5)])
        let described = problems.map(\.description)
        #expect(described.contains { $0.hasPrefix("meldungen.jsonl:2: line of 100000") && $0.contains("MiB") })
        #expect(described.contains { $0.hasPrefix("meldungen.jsonl:3: invalid UTF-8 or NUL") })
        #expect(described.contains { $0.hasPrefix("e0/schleife") && $0.contains("loop") })
        #expect(problems.count == 3)
    }

    @Test("JSON lines parsed on several threads come out as on one: the same documents, problems and lines, in order")
    func jsonLinesOnThreads() throws {
        var sample: [Document] = []
        try CorpusReader(root: TestSupport.sampleCorpus).read({ document, _ in sample.append(document) }, problem: { _ in })
        // More lines than two parsing batches, with bad, blank and decomposed (NFD) lines between.
        var lines: [[UInt8]] = []
        for round in 0..<20 {
            for (index, document) in sample.enumerated() {
                var object: [String: String] = ["title": document.title, "body": document.body]
                if (round + index) % 5 != 0 { object["id"] = "\(document.id)-\(round)" }
                if index % 7 == 3 { object["title"] = document.title.decomposedStringWithCanonicalMapping }
                lines.append(Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])))
                switch (round + index) % 11 {
                case 0: lines.append(Array(#"{"id": "kaputt", "body": "#.utf8))
                case 1: lines.append(Array("   ".utf8))
                case 2: lines.append(Array(#"{"id": "nul", "body": "a"#.utf8) + [0x00] + Array(#"b"}"#.utf8))
                case 3: lines.append(Array(#"{"id": "ohne"}"#.utf8))
                default: break
                }
            }
        }
        #expect(lines.count > 2 * CorpusReader.parsingBatch)
        let corpus = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: corpus) }
        try Data(lines.joined(separator: [0x0A])).write(to: URL(fileURLWithPath: corpus + "/meldungen.jsonl"))

        func read(threads: Int) throws -> (documents: [Document], locations: [CorpusLocation], problems: [CorpusProblem]) {
            var documents: [Document] = [], locations: [CorpusLocation] = [], problems: [CorpusProblem] = []
            try CorpusReader(root: corpus, threads: threads).read({ documents.append($0); locations.append($1) }, problem: { problems.append($0) })
            return (documents, locations, problems)
        }
        let one = try read(threads: 1), three = try read(threads: 3)
        #expect(one.documents.count == 20 * sample.count)
        #expect(three.documents == one.documents)
        #expect(three.locations == one.locations)
        #expect(three.problems == one.problems)
        #expect(!one.problems.isEmpty && one.problems.allSatisfy { $0.line != nil })
        // Titles come out composed (NFC) whichever way they were written.
        #expect(one.documents.allSatisfy { $0.title == $0.title.precomposedStringWithCanonicalMapping })
        // A line without an id is named by its file and line.
        #expect(one.documents.contains { $0.id == "meldungen:\(one.locations[one.documents.firstIndex(of: $0)!].line!)" })
    }

    @Test("unreadable files are reported and skipped", .enabled(if: geteuid() != 0, "root reads every file"))
    func unreadableFile() throws {
        let corpus = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: corpus) }
        try Data("Lesbar\n\nDieser Text ist lesbar.".utf8).write(to: URL(fileURLWithPath: corpus + "/lesbar.txt"))
        try Data("Gesperrt\n\nDieser nicht.".utf8).write(to: URL(fileURLWithPath: corpus + "/gesperrt.txt"))
        chmod(corpus + "/gesperrt.txt", 0)
        var ids: [String] = []
        var problems: [CorpusProblem] = []
        try CorpusReader(root: corpus).read({ document, _ in ids.append(document.id) }, problem: { problems.append($0) })
        #expect(ids == ["lesbar"])
        #expect(problems.map(\.description) == ["gesperrt.txt: cannot read file (permissions?), skipped"])
    }

    @Test("text and Markdown files: titles, front matter, ids")
    func textFormats() {
        let titled = CorpusReader.textDocument(id: "politik/x", text: "Neue Sanktionen\n\nDie EU beschließt …")
        #expect(titled.title == "Neue Sanktionen" && titled.body == "Die EU beschließt …")
        let untitled = CorpusReader.textDocument(id: "regional/hochwasser-an-der-mosel", text: "Ein langer erster Absatz ohne Titelzeile.")
        #expect(untitled.title == "Hochwasser an der mosel" || untitled.title == "Hochwasser an der Mosel")
        #expect(untitled.body == "Ein langer erster Absatz ohne Titelzeile.")
        let markdown = CorpusReader.markdownDocument(id: "m", text: "---\ndate: 2024-03-14\nsource: kidx\n---\n# Gipfel in Seoul\n\nText des Artikels.")
        #expect(markdown.title == "Gipfel in Seoul" && markdown.date == "2024-03-14" && markdown.source == "kidx" && markdown.body == "Text des Artikels.")
        #expect(CorpusReader.id(forPath: "agentur/meldungen.jsonl.gz") == "agentur/meldungen")
    }
}
