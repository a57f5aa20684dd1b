import XCTest
import Foundation
@testable import WireMeasure

final class RaceSettingsTests: XCTestCase {
    func testScenarioFileSetsEveryKey() throws {
        let json = #"{"url":"http://127.0.0.1:9000","transports":["sse","ws"],"duration":2.5,"rate":5,"size":16,"clients":3,"poll_interval":0.25,"format":"csv"}"#
        let s = try RaceSettings(scenario: Data(json.utf8))
        XCTAssertEqual(s.url, "http://127.0.0.1:9000")
        XCTAssertEqual(s.transports, [.sse, .ws])
        XCTAssertEqual(s.duration, 2.5)
        XCTAssertEqual(s.rate, 5)
        XCTAssertEqual(s.size, 16)
        XCTAssertEqual(s.clients, 3)
        XCTAssertEqual(s.pollInterval, 0.25)
        XCTAssertEqual(s.format, .csv)
    }

    func testScenarioFileSetsTheSurvivalKeys() throws {
        let json = #"{"transports":["auto","ws"],"via":"--cut-every 2","reconnect":"backoff","fallback_after":250}"#
        let s = try RaceSettings(scenario: Data(json.utf8))
        XCTAssertEqual(s.transports, [.auto, .ws])
        XCTAssertEqual(s.via, "--cut-every 2")
        XCTAssertEqual(s.reconnect, .backoff)
        XCTAssertEqual(s.fallbackAfter, 250)
        // Defaults: direct, full jitter, 1 s; the default race is the four without auto.
        let d = RaceSettings()
        XCTAssertNil(d.via)
        XCTAssertEqual(d.reconnect, .jitter)
        XCTAssertEqual(d.fallbackAfter, 1000)
        XCTAssertEqual(d.transports, [.poll, .longpoll, .sse, .ws])
        XCTAssertThrowsError(try RaceSettings(scenario: Data(#"{"reconnect":"never"}"#.utf8)))
        XCTAssertThrowsError(try RaceSettings(scenario: Data(#"{"fallback_after":-5}"#.utf8)))
    }

    func testScenarioTransportsMayBeACommaSeparatedString() throws {
        XCTAssertEqual(try RaceSettings(scenario: Data(#"{"transports":"poll,ws"}"#.utf8)).transports, [.poll, .ws])
    }

    func testUnknownScenarioKeyIsNamed() {
        XCTAssertThrowsError(try RaceSettings(scenario: Data(#"{"duration":1,"colour":"red"}"#.utf8))) { error in
            XCTAssertTrue((error as? RaceSettingsError)?.message.contains("'colour'") == true, "\(error)")
        }
    }

    func testScenarioValuesAreValidated() {
        for bad in [#"{"duration":0}"#, #"{"clients":0}"#, #"{"clients":1.5}"#, #"{"rate":"fast"}"#,
                    #"{"transports":["poll","carrier-pigeon"]}"#, #"{"format":"xml"}"#, #"{"url":"ftp://x"}"#, "[1]", "{"] {
            XCTAssertThrowsError(try RaceSettings(scenario: Data(bad.utf8)), bad)
        }
    }

    func testEndpointFromURL() throws {
        XCTAssertEqual(try RaceEndpoint(url: "http://127.0.0.1:8080/x").port, 8080)
        XCTAssertEqual(try RaceEndpoint(url: "http://[::1]:9/").host, "::1")
        XCTAssertEqual(try RaceEndpoint(url: "http://[::1]:9/").hostHeader, "[::1]:9")
        XCTAssertEqual(try RaceEndpoint(url: "http://example.org").port, 80)
        XCTAssertFalse(try RaceEndpoint(url: "http://example.org").isSameHost)
        XCTAssertTrue(try RaceEndpoint(url: "http://localhost:1").isSameHost)
        XCTAssertThrowsError(try RaceEndpoint(url: "example.org:80"))
        XCTAssertThrowsError(try RaceEndpoint(url: "http://host:99999"))
    }
}
