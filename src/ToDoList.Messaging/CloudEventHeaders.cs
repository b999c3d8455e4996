namespace ToDoList.Messaging;

/// <summary>
/// Header names of the CloudEvents 1.0 attributes in binary mode, as the NATS protocol binding names them.
/// Transports whose binding names them otherwise (AMQP: <c>cloudEvents_id</c>) translate at their edge.
/// </summary>
public static class CloudEventHeaders
{
    public const string Prefix = "ce-";
    public const string SpecVersion = "ce-specversion";
    public const string Id = "ce-id";
    public const string Source = "ce-source";
    public const string Type = "ce-type";
    public const string Time = "ce-time";
    public const string DataContentType = "content-type";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    public const string SpecVersionValue = "1.0";
}

/// <summary>Headers the library itself sets.</summary>
public static class MessagingHeaders
{
    /// <summary>A status reply, as NATS sends it: 503 means no responders.</summary>
    public const string Status = "status";
    public const string NoRespondersStatus = "503";

    /// <summary>Unique per dead letter, the same on every redelivery of it: the key a keeper stores it under once.</summary>
    public const string DeadLetterId = "deadletter-id";

    public const string DeadLetterError = "deadletter-error";
    public const string DeadLetterGroup = "deadletter-group";
    public const string DeadLetterAttempts = "deadletter-attempts";
    public const string DeadLetterSubject = "deadletter-subject";
    public const string DeadLetterTime = "deadletter-time";
}
