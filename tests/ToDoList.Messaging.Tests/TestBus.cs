using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests;

/// <summary>Buses for the transport tests.</summary>
public static class TestBus
{
    /// <summary>A bus on <paramref name="transport"/>, connected; disposed again if connecting fails.</summary>
    public static async Task<MessageBus> ConnectAsync(ITransport transport, MessagingOptions? options = null)
    {
        var bus = new MessageBus(transport, options ?? new MessagingOptions());
        try
        {
            await bus.ConnectAsync();
        }
        catch
        {
            await bus.DisposeAsync();
            throw;
        }

        return bus;
    }
}
