namespace ToDoList.Messaging;

/// <summary>Base of every error the messaging library raises on purpose.</summary>
public class MessagingException : Exception
{
    public MessagingException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>A request found nobody subscribed to its subject.</summary>
public sealed class NoRespondersException(string subject)
    : MessagingException($"No responders are subscribed to '{subject}'.")
{
    public string Subject { get; } = subject;
}

/// <summary>A request got no reply within its timeout.</summary>
public sealed class RequestTimeoutException(string subject, TimeSpan timeout)
    : MessagingException($"No reply on '{subject}' within {timeout.TotalSeconds:0.###} s.")
{
    public string Subject { get; } = subject;
}

/// <summary>A payload exceeds <see cref="MessagingOptions.MaxPayloadBytes"/>.</summary>
public sealed class MessageTooLargeException(string subject, int size, int limit)
    : MessagingException($"The message on '{subject}' is {size} bytes; the limit is {limit} bytes.");

/// <summary>A bounded store refused a message because it is full: back-pressure made explicit.</summary>
public sealed class QueueFullException(string queue, long capacity)
    : MessagingException($"The queue '{queue}' holds its limit of {capacity} messages; the message was not accepted.");

/// <summary>The message cannot be handled however often it is tried (for example its data is not valid JSON): it goes straight to the dead letters.</summary>
public sealed class PoisonMessageException(string reason, Exception? inner = null) : MessagingException(reason, inner);

/// <summary>The transport is not connected, or the configuration asks for what it cannot do.</summary>
public sealed class TransportException(string message, Exception? inner = null) : MessagingException(message, inner);
