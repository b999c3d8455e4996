namespace ToDoList.Data;

/// <summary>A dead letter as the database keeps it, so that it outlives the process and every web replica lists the same ones.</summary>
public sealed class DeadLetterRow
{
    /// <summary>Arrival order: lists are oldest first.</summary>
    public long Number { get; set; }

    /// <summary>The <c>deadletter-id</c> header: unique, so a dead letter delivered again is kept once.</summary>
    public required string LetterId { get; set; }

    public required string Subject { get; set; }

    public string? EventId { get; set; }

    public required string Error { get; set; }

    public string? QueueGroup { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset Time { get; set; }

    /// <summary>The message's headers as a JSON object.</summary>
    public required string Headers { get; set; }

    public required byte[] Data { get; set; }
}
