namespace ToDoList.Messaging.Nats;

/// <summary>Settings of the NATS transport beyond its URL; every one has a default that works.</summary>
public sealed record NatsTransportOptions
{
    /// <summary>The connection name the server shows (<c>/connz</c>). Default <c>todo</c>.</summary>
    public string Name { get; init; } = "todo";

    /// <summary>
    /// Largest message data the bus accepts (<see cref="MessagingOptions.MaxPayloadBytes"/>). The server's
    /// <c>max_payload</c> must hold it plus <see cref="MaxHeaderBytes"/>, or connecting fails. Default 1 MiB.
    /// </summary>
    public int MaxPayloadBytes { get; init; } = 1024 * 1024;

    /// <summary>Room for headers beyond the data (CloudEvents, trace context, dead-letter details). Default 64 KiB.</summary>
    public int MaxHeaderBytes { get; init; } = 64 * 1024;

    /// <summary>How long a publish to a subject a stream captures waits for the stream's acknowledgement. Default 5 s.</summary>
    public TimeSpan PublishAckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long "no stream captures this subject" is believed. Stream advisories and reconnects
    /// refresh it sooner; this bounds the rare case of a missed advisory. Default 30 s.
    /// </summary>
    public TimeSpan StreamLookupTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the streams this transport makes keep a message (limits retention, file storage). A durable
    /// group away longer than this misses what is older; each group keeps its own place, so a message is
    /// delivered once to every group whatever its age. Interest retention is not used: while a restarted
    /// server is still loading consumers it drops messages it acknowledges. Default 1 day.
    /// </summary>
    public TimeSpan StreamMaxAge { get; init; } = TimeSpan.FromDays(1);

    /// <summary>A PEM file of a private CA that signed the server's certificate (<see cref="MessagingOptions.CaFile"/>), for <c>tls://</c>.</summary>
    public string? CaFile { get; init; }

    /// <summary>The server's monitoring endpoint (<c>http://host:8222</c>), where the diagnostics read <c>/connz</c>. Null: connections are not shown.</summary>
    public string? MonitorUrl { get; init; }

    /// <summary>Wait before the first reconnect attempt; it doubles up to <see cref="ReconnectWaitMax"/>, forever. Default 250 ms.</summary>
    public TimeSpan ReconnectWaitMin { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait between reconnect attempts. Default 5 s.</summary>
    public TimeSpan ReconnectWaitMax { get; init; } = TimeSpan.FromSeconds(5);
}
