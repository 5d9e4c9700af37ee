"""The agenda: experta's DepthStrategy, but removing a blocked activation wherever it is.

This module is adapted from experta's Rete matcher (experta 1.9.4, Copyright Roberto Abdelkader
Martínez Pérez) and, like it, is licensed under the GNU LGPL 3.0 (`ipexpert/_vendor/experta/COPYING.LESSER`);
the rest of ipexpert is MIT.
"""

from __future__ import annotations

import bisect

from ipexpert._engine.experta import DepthStrategy


class ExactDepthStrategy(DepthStrategy):
    """DepthStrategy whose removal finds the activation among all those with the same key."""

    def get_key(self, activation):
        """DepthStrategy's key (salience, then the newest facts first), without its small shared cache."""
        return (activation.rule.salience, sorted((f["__factid__"] for f in activation.facts), reverse=True))

    def _update_agenda(self, agenda, added, removed):
        # The keys are kept in a list beside the activations, so bisect compares them in C
        # instead of through Activation.__lt__; the engine only ever pops the last activation.
        activations = agenda.activations
        keys = agenda.__dict__.get("ipexpert_keys")
        if keys is None or len(keys) < len(activations):
            keys = agenda.ipexpert_keys = [activation.key for activation in activations]
        elif len(keys) > len(activations):
            del keys[len(activations) :]
        for activation in removed:
            key = activation.key = self.get_key(activation)
            low = bisect.bisect_left(keys, key)
            high = bisect.bisect_right(keys, key, low)
            rule = activation.rule
            for index in range(low, high):
                other = activations[index]
                # Equal rules are one object in a network, so `is` only skips the slow comparison.
                if other.rule is rule and other == activation:
                    del activations[index]
                    del keys[index]
                    break
        for activation in added:
            key = activation.key = self.get_key(activation)
            index = bisect.bisect_right(keys, key)
            keys.insert(index, key)
            activations.insert(index, activation)
