using ToDoList.Messaging.Diagnostics;

namespace ToDoList.Messaging.Transport;

/// <summary>A transport that can show what its broker sees (<see cref="MessageBus.InspectBrokerAsync"/>). Every transport of this library is one.</summary>
public interface ITransportInspector
{
    /// <summary>Reads the broker's view now. Never throws for a part it cannot read: it says so in <see cref="BrokerView.Notes"/>.</summary>
    ValueTask<BrokerView> InspectAsync(CancellationToken cancellationToken);
}
