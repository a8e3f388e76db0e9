import Foundation
import Testing
@testable import Kidx

@Suite("Crash safety and the writer lock")
struct CrashSafetyTests {
    @Test("a second writer is refused; a lock left by a dead process is taken over")
    func writerLock() throws {
        let index = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: index) }
        do {
            let first = try IndexWriter(directory: index)
            #expect(throws: KidxError.self) { try IndexWriter(directory: index) }
            try first.add(Document(id: "a", body: "Sanktionen"))
            try first.commit()
        }
        // The lock went with the first writer.
        #expect(!FileManager.default.fileExists(atPath: index + "/" + IndexLock.fileName))
        // A lock file naming a process that does not exist (a killed build).
        try Data("2147483646\n".utf8).write(to: URL(fileURLWithPath: index + "/" + IndexLock.fileName))
        let second = try IndexWriter(directory: index)
        try second.add(Document(id: "b", body: "Sanktionen"))
        try second.commit()
        #expect(try IndexReader(directory: index).documentCount == 1)
    }

    /// Runs `kidx build` on `corpus` and kills it with SIGKILL after `delay` seconds if it is still running.
    private static func buildAndKill(_ corpus: String, index: String, after delay: Double) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(CommandLineTests.executable))
        process.arguments = ["build", corpus, "--index", index]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(delay)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    @Test("killing a build at 50 random moments leaves an index that answers the old or the new state",
          .enabled(if: CommandLineTests.executable != nil, "the kidx executable was not found beside the tests"))
    func killedBuilds() throws {
        let index = try TestSupport.temporaryFolder("kill")
        defer { try? FileManager.default.removeItem(atPath: index) }
        let full = TestSupport.sampleCorpus, part = TestSupport.sampleCorpus + "/politik"
        // The two states: every article, or the politics folder alone.
        let start = Date()
        try Self.buildAndKill(full, index: index, after: 60)
        let buildSeconds = Date().timeIntervalSince(start)
        let fullCount = try IndexReader(directory: index).documentCount
        var problems: [CorpusProblem] = []
        let partCount = try CorpusReader(root: part).files(problems: &problems).count  // one article per file there
        #expect(fullCount > partCount && partCount > 0)
        var generator = SystemRandomNumberGenerator()
        var killedMidway = 0
        for round in 0..<50 {
            let delay = Double.random(in: 0...(buildSeconds * 1.1), using: &generator)
            try Self.buildAndKill(round % 2 == 0 ? part : full, index: index, after: delay)
            if delay < buildSeconds * 0.9 { killedMidway += 1 }
            let reader = try IndexReader(directory: index)
            #expect([fullCount, partCount].contains(reader.documentCount), "round \(round): \(reader.documentCount) documents")
            _ = try Searcher(reader: reader).search("Sanktionen")
        }
        try IndexReader(directory: index).verify()
        #expect(killedMidway >= 25)
        // A build after all that completes (stale lock taken over, leftovers removed).
        try Self.buildAndKill(full, index: index, after: 60)
        #expect(try IndexReader(directory: index).documentCount == fullCount)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: index).filter { $0.contains(".tmp") || $0 == IndexLock.fileName }
        #expect(leftovers.isEmpty, "left behind: \(leftovers)")
    }
}
